// MultipleChoiceSetTests: malformed JSONL lines fail with file:line and the problem named.
using Compression.Evaluation.Tasks.MultipleChoice;

namespace Compression.Tests.Evaluation.Tasks;

public class MultipleChoiceSetTests
{
    private const string GoodHellaSwag = """{"activity_label": "A", "ctx_a": "b.", "ctx_b": "c", "endings": ["d", "e"], "label": "1"}""";

    private static InvalidDataException Fails(string content, string? layout = null)
    {
        string path = Path.Combine(TestPaths.NewTempDir("mc"), "task.jsonl");
        File.WriteAllText(path, content);
        var e = Assert.Throws<InvalidDataException>(() => MultipleChoiceSet.Read(path, layout));
        Assert.StartsWith(path, e.Message);
        return e;
    }

    [Fact]
    public void MissingField_NamesLineAndField()
    {
        var e = Fails(GoodHellaSwag + "\n\n" + """{"activity_label": "A", "ctx_a": "b.", "ctx_b": "c", "label": "0"}""");
        Assert.Contains(":3:", e.Message);
        Assert.Contains("'endings'", e.Message);
    }

    [Fact]
    public void InvalidJson_NamesLine()
    {
        var e = Fails(GoodHellaSwag + "\n" + GoodHellaSwag + "\n{\"activity_label\": ");
        Assert.Contains(":3: invalid JSON", e.Message);
    }

    [Fact]
    public void WrongType_NamesField() =>
        Assert.Contains("field 'label' must be an integer", Fails(GoodHellaSwag.Replace("\"1\"", "[1]")).Message);

    [Fact]
    public void AnswerOutOfRange() =>
        Assert.Contains(":1: hellaswag: answer index 5", Fails(GoodHellaSwag.Replace("\"1\"", "5")).Message);

    [Fact]
    public void ArcAnswerKeyNotAmongLabels() =>
        Assert.Contains("answerKey 'E'", Fails("""{"question": "q", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "E"}""").Message);

    [Fact]
    public void WinoGrandeWithoutBlank() =>
        Assert.Contains("no '_'", Fails("""{"sentence": "no blank", "option1": "a", "option2": "b", "answer": "1"}""").Message);

    [Fact]
    public void UnknownLayout_ListsTheFields() =>
        Assert.Contains("cannot tell the layout from fields [text, label]", Fails("""{"text": "x", "label": 1}""").Message);

    [Fact]
    public void NotAnObject() => Assert.Contains(":1: expected a JSON object", Fails("[1, 2]").Message);

    [Fact]
    public void EmptyFile() => Assert.Contains("no documents", Fails("\n\n").Message);

    [Fact]
    public void ExplicitLayoutIsEnforced() =>
        Assert.Contains("missing field 'goal'", Fails(GoodHellaSwag, layout: "piqa").Message);

    [Fact]
    public void MissingFile() =>
        Assert.Throws<FileNotFoundException>(() => MultipleChoiceSet.Read(Path.Combine(TestPaths.NewTempDir("mc"), "none.jsonl")));
}
