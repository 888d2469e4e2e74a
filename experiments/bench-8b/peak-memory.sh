#!/usr/bin/env bash
# peak-memory.sh LOG -- COMMAND...: runs COMMAND, samples its /proc status every 0.2 s, and appends one line to LOG:
# wall seconds, peak RssAnon (anonymous memory: what the process itself allocated), peak VmRSS (including mapped
# file pages, which the page cache can drop), exit code. Anonymous memory is what the 8B memory goals are about.
set -uo pipefail
log=$1; shift; [ "$1" = "--" ] && shift
start=$(date +%s.%N)
"$@" &
pid=$!
anon=0; rss=0
while kill -0 "$pid" 2>/dev/null; do
  if [ -r "/proc/$pid/status" ]; then
    a=$(awk '$1=="RssAnon:"{print $2}' "/proc/$pid/status" 2>/dev/null); r=$(awk '$1=="VmRSS:"{print $2}' "/proc/$pid/status" 2>/dev/null)
    [ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a
    [ -n "$r" ] && [ "$r" -gt "$rss" ] && rss=$r
  fi
  sleep 0.2
done
wait "$pid"; code=$?
end=$(date +%s.%N)
printf '%s\twall_s=%.1f\tpeak_anon_MB=%d\tpeak_rss_MB=%d\texit=%d\n' "$*" "$(echo "$end - $start" | bc)" $((anon / 1024)) $((rss / 1024)) "$code" >> "$log"
exit $code
