// GenAiConfig: genai_config.json — what onnxruntime-genai reads to drive the exported decoder (names, sizes, search defaults).
using System.Text.Json;
using System.Text.Json.Nodes;
using Compression.Model;

namespace Compression.Export.Onnx;

/// <summary>The fields onnxruntime-genai's model builder writes for a Llama decoder on CPU.</summary>
internal static class GenAiConfig
{
    public const string FileName = "genai_config.json";

    public static string Json(LlamaConfig c, string modelFile, int contextLength)
    {
        int eos = c.EosTokenIds.Length > 0 ? c.EosTokenIds[0] : 0;
        var config = new JsonObject
        {
            ["model"] = new JsonObject
            {
                ["bos_token_id"] = c.BosTokenId ?? 1,
                ["context_length"] = contextLength,
                ["decoder"] = new JsonObject
                {
                    ["session_options"] = new JsonObject { ["log_id"] = "onnxruntime-genai", ["provider_options"] = new JsonArray() },
                    ["filename"] = modelFile,
                    ["head_size"] = c.HeadDim,
                    ["hidden_size"] = c.HiddenSize,
                    ["inputs"] = new JsonObject
                    {
                        ["input_ids"] = LlamaOnnxGraph.InputIds,
                        ["attention_mask"] = LlamaOnnxGraph.AttentionMask,
                        ["past_key_names"] = "past_key_values.%d.key",
                        ["past_value_names"] = "past_key_values.%d.value",
                    },
                    ["outputs"] = new JsonObject
                    {
                        ["logits"] = LlamaOnnxGraph.Logits,
                        ["present_key_names"] = "present.%d.key",
                        ["present_value_names"] = "present.%d.value",
                    },
                    ["num_attention_heads"] = c.NumHeads,
                    ["num_hidden_layers"] = c.NumLayers,
                    ["num_key_value_heads"] = c.NumKeyValueHeads,
                },
                ["eos_token_id"] = c.EosTokenIds.Length > 1 ? new JsonArray(c.EosTokenIds.Select(e => (JsonNode)e).ToArray()) : eos,
                ["pad_token_id"] = eos,
                ["type"] = "llama",
                ["vocab_size"] = c.VocabSize,
            },
            ["search"] = new JsonObject
            {
                ["diversity_penalty"] = 0.0,
                ["do_sample"] = false,
                ["early_stopping"] = true,
                ["length_penalty"] = 1.0,
                ["max_length"] = contextLength,
                ["min_length"] = 0,
                ["no_repeat_ngram_size"] = 0,
                ["num_beams"] = 1,
                ["num_return_sequences"] = 1,
                // GroupQueryAttention updates a max_length-sized cache in place, as the builder sets it for GQA.
                ["past_present_share_buffer"] = true,
                ["repetition_penalty"] = 1.0,
                ["temperature"] = 1.0,
                ["top_k"] = 50,
                ["top_p"] = 1.0,
            },
        };
        return config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
