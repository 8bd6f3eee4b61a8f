/*
 * A bare clause with no action (the default action) still prints the probe line, as does a
 * clause whose only action is exit() (exit records data). Output goes to stderr (-o) so the
 * CPU column can be matched by a pattern.
 *
 * @args: -n BEGIN -n 'BEGIN { exit(0); }' -o /dev/stderr
 */
