/*
 * With the argref option, arguments need not be referenced (dtrace's -x argref).
 *
 * @args: -q -x argref 1234
 */

BEGIN
{
	printf("ran\n");
	exit(0);
}
