/*
 * Macro arguments also work in -n programs: the operands after the options.
 *
 * @args: -q -n 'BEGIN { printf("%d %s\n", $1 * 2, $$2); exit(0); }' 21 words
 */
