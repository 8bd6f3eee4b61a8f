/*
 * Several -n options make one program; their clauses run in command-line order.
 *
 * @args: -q -n 'BEGIN { printf("first\n"); }' -n 'BEGIN { printf("second\n"); exit(0); }'
 */
