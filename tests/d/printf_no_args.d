/*
 * A format with no conversions prints its text, escapes decoded.
 *
 */

#pragma D option quiet

BEGIN
{
	printf("tab\there\\back\"quote\"\n");
	exit(0);
}
