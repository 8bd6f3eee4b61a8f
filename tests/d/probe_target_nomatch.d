/*
 * A target that does not exist matches no probe: without -Z that is an error, exit 1.
 *
 * @exit: 1
 */

noguest:dtrace:::BEGIN
{
	printf("never\n");
}
