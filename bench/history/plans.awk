# From a PostgreSQL log, the auto_explain entries (a "duration: ... plan:"
# line and the tab-indented lines after it) whose query reads
# account_entries: the history, statement and balance queries.
function flush() { if (keep) printf "%s", block; block = ""; keep = 0 }
/ LOG:  duration: .* plan:/ { flush(); block = $0 "\n"; next }
/^\t/ && block != "" { block = block $0 "\n"; if (/account_entries/) keep = 1; next }
{ flush() }
END { flush() }
