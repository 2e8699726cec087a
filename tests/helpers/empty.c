/* A preloadable shared object with nothing in it: the dynamic loader's own
 * cost of a preload, and a harmless existing LD_PRELOAD entry for tests. */
int sockfix_empty_marker;
