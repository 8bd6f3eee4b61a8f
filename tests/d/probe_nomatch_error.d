/*
 * A description that matches no probe is an error (exit 1) naming the description in
 * DTrace's provider:module:function:name form; nothing runs.
 *
 * @exit: 1
 */

BEGIN
{
	printf("never\n");
}

BEGINN
{
	printf("never\n");
}
