/*
 * A stack() key prints only with %k (dtrace's D_PRINTF_ARG_TYPE), never as a number.
 *
 * @exit: 1
 */

BEGIN
{
	@[stack()] = count();
	printa("%p\n", @);
	exit(0);
}
