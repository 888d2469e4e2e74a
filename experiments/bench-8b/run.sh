#!/usr/bin/env bash
# Reproduces results/bench-8b: Llama 3.1 8B at its real shape (random bf16 weights from `compress synth`, with a
# tokenizer) on this machine, end to end — synth, quantize to GGUF (f16, q8_0, q4_0, q1_0; --pure, as llama-quantize
# --pure), bench each file on the workbench and on llama.cpp side by side (same file, prompt, seed, threads; and a
# 512-token prefill of the quantized files, and q1_0 and q4_0 decoding from the workbench's repacked layouts), bench the
# bf16 checkpoint and the in-memory int8/int4 formats, then every other command once at 8B (inspect, generate, logits,
# eval: perplexity, KL vs the bf16 baseline, multiple choice; run on a spec), each with its wall time and peak memory.
#
#   bash experiments/bench-8b/run.sh            # DATA=/tmp/compression-8b by default: ~40 GB of disk
#
# Memory is sampled from /proc every 0.2 s: peak anonymous memory (what the process allocated) and peak RSS
# (which also counts the mapped checkpoint's pages; the page cache can drop those). Random weights make quality
# numbers meaningless here; speed and memory are what this measures.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
DATA=${DATA:-/tmp/compression-8b}
OUT=${OUT:-results/bench-8b}
PREFILL=${PREFILL:-64}
DECODE=${DECODE:-16}
REPS=${REPS:-2}
mkdir -p "$DATA" "$OUT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Mapped weights through 2 MiB page-cache pages (see HugePageMapping): drop what an earlier read left in small pages.
export COMPRESS_HUGEPAGES=${COMPRESS_HUGEPAGES:-refresh}

dotnet build src/Compression.Cli -c Release -v q -nologo
compress=$repo/src/Compression.Cli/bin/Release/net10.0/compress
runs=$repo/$OUT/runs.tsv
measure() { "$repo/experiments/bench-8b/peak-memory.sh" "$runs" -- "$@"; }
: > "$runs"

start=$(date +%s)
# 1. The checkpoint: Llama 3.1 8B's config, random bf16 weights, 4 shards with an index, a 128,256-token tokenizer.
[ -f "$DATA/synth-8b/model.safetensors.index.json" ] && [ -f "$DATA/synth-8b/tokenizer.json" ] ||
  measure "$compress" synth --config llama-3.1-8b --out "$DATA/synth-8b" --dtype bf16 --shard-size 5GB
measure "$compress" inspect "$DATA/synth-8b" > "$OUT/inspect-synth-8b.txt"

# 2. This machine's read bandwidth (2 threads). Every bench below measures it again right before its cell (--bandwidth):
#    on a shared VM it moves by ±20 % within minutes, and each record keeps the figure of its own minute.
"$compress" bench --bandwidth --results "$OUT"

# 3. GGUF files, streamed from the mapped checkpoint.
for f in f16 q8_0 q4_0 q1_0; do
  [ -f "$DATA/8b-$f.gguf" ] || measure "$compress" quantize --model "$DATA/synth-8b" --format "$f" --pure --out "$DATA/8b-$f.gguf"
done

# 4. Both engines on each file.
for f in f16 q8_0 q4_0 q1_0; do
  measure "$compress" bench --model "$DATA/8b-$f.gguf" --compare --threads 2 --bandwidth \
    --prefill "$PREFILL" --decode "$DECODE" --repetitions "$REPS" --results "$OUT"
done

# 4b. Prefill of 512 tokens on the quantized files, both engines (the integer prefill's goal: pp512 ≥ llama.cpp). Its own
#     results folder: a throughput record's key does not hold the prompt length, so these would replace step 4's.
for f in q8_0 q4_0 q1_0; do
  measure "$compress" bench --model "$DATA/8b-$f.gguf" --compare --threads 2 \
    --prefill 512 --decode 4 --repetitions "$REPS" --results "$OUT/pp512"
done

# 4c. q1_0 and q4_0 decode from the workbench's own layouts of their weights (COMPRESS_REPACK=1: each matrix's
#     sixteen-row groups rewritten as the decode kernel reads them, a second copy in anonymous memory, as llama.cpp
#     repacks q4_0). Its own folder, as 4b's: the key is the same file's.
for f in q1_0 q4_0; do
  measure env COMPRESS_REPACK=1 "$compress" bench --model "$DATA/8b-$f.gguf" --compare --threads 2 --bandwidth \
    --prefill "$PREFILL" --decode "$DECODE" --repetitions "$REPS" --results "$OUT/repack"
done

# 5. The workbench alone: the bf16 checkpoint as loaded, and formats with no GGUF type, quantized in memory.
measure "$compress" bench --model "$DATA/synth-8b" --threads 2 --bandwidth --prefill "$PREFILL" --decode "$DECODE" --repetitions "$REPS" --results "$OUT"
for f in int8 int4; do
  measure "$compress" bench --model "$DATA/synth-8b" --quantize "$f" --policy pure --threads 2 --bandwidth \
    --prefill "$PREFILL" --decode "$DECODE" --repetitions "$REPS" --results "$OUT"
done

# 6. Every other command once at 8B. Text: this repository's README (any text works with a byte-level BPE).
text=$DATA/text.txt
head -c 6000 README.md > "$text"
printf '{"id": "q1", "context": "The capital of France is", "choices": [" Paris", " Rome", " Berlin", " Madrid"], "answer": 0}\n{"id": "q2", "context": "Two plus two is", "choices": [" four", " five"], "answer": 0}\n' > "$DATA/mc.jsonl"
measure "$compress" inspect "$DATA/8b-q4_0.gguf" > "$OUT/inspect-8b-q4_0.txt"
measure "$compress" generate --model "$DATA/8b-q4_0.gguf" --prompt "The capital of France is" -n 8 > "$OUT/generate-8b-q4_0.txt"
measure "$compress" logits --model "$DATA/8b-q1_0.gguf" --tokens 128000,791,6864,315,9822,374 > "$DATA/logits.json"
measure "$compress" eval --model "$DATA/synth-8b" --perplexity "$text" --context 256 --max-tokens 256 --results "$OUT/eval"
measure "$compress" eval --model "$DATA/synth-8b" --quantize q4_0 --policy pure --kl "$text" --context 256 --max-tokens 256 --results "$OUT/eval"
measure "$compress" eval --model "$DATA/8b-q8_0.gguf" --tasks "$DATA/mc.jsonl" --results "$OUT/eval"
sed "s|@MODEL@|$DATA/synth-8b|; s|@TEXT@|$text|" experiments/bench-8b/spec.json > "$DATA/spec.json"
rm -rf "$OUT/run" # `run` resumes: cells already recorded would be skipped, not measured again
measure "$compress" run "$DATA/spec.json"

# 7. Tables and charts from every record.
"$compress" report --results "$OUT"
"$compress" report --results "$OUT/pp512"
"$compress" report --results "$OUT/repack"
echo "bench-8b: $(( ($(date +%s) - start) / 60 )) min; runs (wall, peak anonymous memory, peak RSS) in $runs"
