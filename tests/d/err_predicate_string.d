/*
 * A predicate must be of scalar (integer) type; a string is an error.
 *
 * @exit: 1
 */

BEGIN
/probename/
{
	exit(0);
}
