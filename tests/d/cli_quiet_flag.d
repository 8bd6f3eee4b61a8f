/*
 * -q: only what the script prints reaches stdout.
 *
 * @args: -q -n 'BEGIN { printf("quiet\n"); exit(0); }'
 */
