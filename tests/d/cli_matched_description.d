/*
 * With -n, one "description 'D' matched N probe(s)" line per -n, the description cropped at
 * its first '{', '/' or ';' as dtrace(1) does.
 *
 * @args: -o /dev/null -n 'dtrace:::BEGIN { exit(0); }' -n 'dtrace:::E* /1/ { }'
 */
