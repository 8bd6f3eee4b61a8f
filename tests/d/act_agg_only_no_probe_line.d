/*
 * A clause whose only action is an aggregation records no data: no header and no probe line
 * are printed; the aggregation is printed when the run ends (here when -c's command exits).
 *
 * @args: -n 'BEGIN { @a = count(); }' -c true
 */
