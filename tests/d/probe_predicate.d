/*
 * Predicates: a clause runs only when its predicate is non-zero (ints) or true (string
 * comparisons).
 *
 * @args: -q
 */

BEGIN /1/ { printf("one\n"); }
BEGIN /0/ { printf("zero\n"); }
BEGIN /-1/ { printf("minus one\n"); }
BEGIN /probename == "BEGIN"/ { printf("name is BEGIN\n"); }
BEGIN /probename != "BEGIN"/ { printf("name is not BEGIN\n"); }
BEGIN { x = 3; }
BEGIN /x > 2 && x < 4/ { printf("x is 3\n"); }
BEGIN /x == 2/ { printf("x is 2\n"); }
BEGIN { exit(0); }
