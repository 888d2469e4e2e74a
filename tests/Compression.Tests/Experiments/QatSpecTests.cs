// QatSpecTests: the "qat" key of a spec — QAT cells expand next to the post-training ones with method "qat"/"qat+kd" in
// their keys, their training settings resolve into QatOptions, and bad settings are one-line errors naming the field.
using Compression.Experiments;
using Compression.Training.Qat;

namespace Compression.Tests.Experiments;

public sealed class QatSpecTests
{
    private const string Model = "\"model\": { \"preset\": \"proxy\" }, \"tasks\": { \"perplexity\": { \"file\": \"t.txt\" }, \"kl\": { \"file\": \"t.txt\" } }";
    private const string Data = "\"train\": \"corpus/train.txt\", \"valid\": \"corpus/valid.txt\"";

    private static string Error(string json) =>
        Assert.Throws<InvalidDataException>(() => ExperimentSpecLoader.Parse(json, "b.json", "/data")).Message;

    [Fact]
    public void Qat_cells_expand_after_the_post_training_ones_with_their_method_in_every_key()
    {
        var spec = ExperimentSpecLoader.Parse($$"""
            { {{Model}}, "formats": ["q1_0"], "policies": ["default", "pure"],
              "qat": { {{Data}}, "steps": 40, "alpha": 0.8, "temperature": 2,
                       "cells": [ { "method": "qat", "format": "q1_0", "policy": "pure" }, { "method": "qat+kd", "format": "Q1_0" } ] } }
            """, "b.json", "/data");
        var groups = SweepPlan.Expand(spec, "m", "f32", []);
        Assert.Equal(["f32/baseline/rtn", "q1_0/default/rtn", "q1_0/pure/rtn", "q1_0/pure/qat", "q1_0/pure/qat+kd"],
            groups.Select(g => $"{g.Format}/{g.Policy}/{g.Method}"));
        Assert.All(groups, g => Assert.All(g.Cells, c => Assert.Equal(g.Method, c.Key.Method)));
        Assert.Equal(3, groups.Select(g => g.Cells.First(c => c.Kind == CellKind.Perplexity).Key.FileName).Skip(2).Distinct().Count());

        var plain = ExperimentSpecLoader.QatOptions(spec, 0, "/models/proxy");
        var distilled = ExperimentSpecLoader.QatOptions(spec, 1, "/models/proxy");
        Assert.Equal((0.0, QatMethod.Plain), (plain.Alpha, plain.Method));
        Assert.Equal((0.8, QatMethod.Distilled, "q1_0", "pure"), (distilled.Alpha, distilled.Method, distilled.Format, distilled.Policy));
        Assert.Equal((40, 2.0, "/data/corpus/train.txt"), (distilled.Steps, distilled.Temperature, distilled.TrainFile));
        Assert.Equal("/data/.cache/qat/qat-kd-q1_0-pure", ExperimentSpecLoader.QatDirectory(spec, 1));
    }

    [Fact]
    public void Bad_qat_settings_are_one_line_errors_naming_the_field()
    {
        Assert.Contains("b.json: qat.cells[0].method: 'gptq': expected qat or qat+kd",
            Error($$"""{ {{Model}}, "qat": { {{Data}}, "cells": [ { "method": "gptq", "format": "q1_0" } ] } }"""));
        Assert.Contains("b.json: qat.cells[0].format: unknown format 'q1'",
            Error($$"""{ {{Model}}, "qat": { {{Data}}, "cells": [ { "method": "qat", "format": "q1" } ] } }"""));
        Assert.Contains("b.json: qat.cells[0].policy: 'llama.cpp': expected pure or default",
            Error($$"""{ {{Model}}, "qat": { {{Data}}, "cells": [ { "method": "qat", "format": "q1_0", "policy": "llama.cpp" } ] } }"""));
        Assert.Contains("b.json: qat.train: required",
            Error($$"""{ {{Model}}, "qat": { "valid": "v.txt", "cells": [ { "method": "qat", "format": "q1_0" } ] } }"""));
        Assert.Contains("b.json: qat.cells: required",
            Error($$"""{ {{Model}}, "qat": { {{Data}} } }"""));
        Assert.Contains("b.json: qat: qat: alpha must be in [0, 1]",
            Error($$"""{ {{Model}}, "qat": { {{Data}}, "alpha": 3, "cells": [ { "method": "qat+kd", "format": "q1_0" } ] } }"""));
        Assert.Contains("b.json: qat.cells: a cell is listed twice",
            Error($$"""{ {{Model}}, "qat": { {{Data}}, "cells": [ { "method": "qat", "format": "q1_0" }, { "method": "qat", "format": "q1_0", "policy": "pure" } ] } }"""));
    }
}
