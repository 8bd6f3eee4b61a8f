/*
 * strtok(s, delims) returns the first token and keeps the rest; strtok(NULL, delims) goes on
 * from there (in later clauses too) and returns "" when no token is left. htons/htonl/htonll
 * and their ntoh twins swap bytes (this is a little-endian host).
 */

#pragma D option quiet

BEGIN
{
	printf("%s|%s|", strtok("a,b,,c;d", ","), strtok(NULL, ","));
}

BEGIN
{
	printf("%s|%s|%s|\n", strtok(NULL, ","), strtok(NULL, ";"), strtok(NULL, ","));
	printf("%x %x %x %x\n", htons(0x1122), ntohs(0xaabb), htonl(0x11223344),
	    ntohll(0x1122334455667788));
	exit(0);
}
