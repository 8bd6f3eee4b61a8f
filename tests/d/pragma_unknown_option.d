/*
 * An unknown option in #pragma D option is a compile error pointing at the pragma; exit 1.
 *
 * @exit: 1
 */

#pragma D option nosuchoption

BEGIN
{
	exit(0);
}
