/*
 * Kernel symbols (`sym, mod`sym) name kernel memory, which vtrace does not read from D: an
 * error that says so, not a guess.
 *
 * @exit: 1
 */

BEGIN
{
	trace(*(int *)&`max_pfn);
}
