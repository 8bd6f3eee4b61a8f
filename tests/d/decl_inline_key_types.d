/*
 * A use's keys are converted to the inline's parameter types as a cast would: a char to an
 * int is one, a string to an int parameter is an error at the key.
 *
 * @args: -q -s {script}
 * @exit: 1
 */

inline int next[int x] = x + 1;

BEGIN
{
	trace(next['a']);
	trace(next["abc"]);
	exit(0);
}
