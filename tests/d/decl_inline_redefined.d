/*
 * An inline defined twice is an error at the second definition (dtrace's D_DECL_IDRED); an
 * inline's own name is unknown inside its expression.
 *
 * @args: -q -s {script}
 * @exit: 1
 */

inline int foo = timestamp;
inline int foo = 8;

BEGIN
{
	exit(0);
}
