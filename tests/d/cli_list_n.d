/*
 * -l with -n lists only the probes the description matches: the header, then BEGIN.
 *
 * @args: -l -n BEGIN
 */
