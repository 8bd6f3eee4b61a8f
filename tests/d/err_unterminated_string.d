/*
 * A string literal without its closing quote is an error at the opening quote.
 *
 * @exit: 1
 */

BEGIN
{
	printf("abc);
}
