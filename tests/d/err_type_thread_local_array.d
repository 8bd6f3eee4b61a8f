/*
 * self-> variables of array or struct type are not supported.
 *
 * @exit: 1
 */

self int a[4];

BEGIN
{
	exit(0);
}
