/*
 * Reading a variable that is never declared nor assigned is an error naming it.
 *
 * @exit: 1
 */

BEGIN
{
	printf("%d\n", nosuchvar + 1);
}
