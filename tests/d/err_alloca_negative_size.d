/*
 * alloca()'s size is a size_t: a negative constant is a huge size, refused before the
 * program runs, as dtrace does.
 *
 * @exit: 1
 */

BEGIN
{
	p = alloca(-1);
}
