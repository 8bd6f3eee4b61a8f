BEGIN { printf("%d %s %d %s\n", $1, $$2, $target, $0); exit($1 - 42); }
