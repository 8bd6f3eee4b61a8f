/*
 * As dtrace: the last macro argument given must be referenced ($1 .. $9, $$1 .. $$9), else it
 * is an extraneous argument (D_MACRO_UNUSED), reported where the program ends.
 *
 * @args: 1234
 * @exit: 1
 */

BEGIN
{
	exit(0);
}
