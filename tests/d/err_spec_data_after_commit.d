/*
 * Nothing is recorded after commit() in the same clause, exit() included (DTrace D_DREC_COMM).
 *
 * @exit: 1
 */

BEGIN
{
	commit(1);
	exit(0);
}
