/*
 * The location is the line of the error in the file, even after several clauses; compile
 * errors stop everything (BEGIN's printf never runs).
 *
 * @exit: 1
 */

BEGIN
{
	printf("never\n");
}

END
{
	trace(-);
}
