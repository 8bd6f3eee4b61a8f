/*
 * alloca() of a constant size larger than the scratchsize option is refused before the
 * program runs.
 *
 * @exit: 1
 */

#pragma D option scratchsize=100

BEGIN
{
	p = alloca(101);
}
