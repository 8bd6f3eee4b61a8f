/*
 * In one clause, speculate() comes before any data-recording action (DTrace D_SPEC_DREC).
 *
 * @exit: 1
 */

BEGIN
{
	printf("x\n");
	speculate(speculation());
}
