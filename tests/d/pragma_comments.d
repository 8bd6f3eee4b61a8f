/*
 * Comments: block comments anywhere (also inside a clause, an expression and a predicate,
 * and over several lines) and // line comments.
 *
 * @args: -q
 */

// a line comment before a clause
BEGIN // after a description
/* before the predicate */ /1 /* inside */ == /* the predicate */ 1/
{
	/*
	 * several
	 * lines
	 */
	x = 1 + /* in an expression */ 2; // after a statement
	printf("%d\n", x); /* trailing */
	printf("// not a comment /* either */\n");
	exit(0);
}
// the last line is a comment without newline