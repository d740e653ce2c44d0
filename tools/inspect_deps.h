/*
 * inspect_deps.h — `plugin deps`: where each dependency of a file would come from, and why,
 * found by the loader's own search run dry (core/plan.h): nothing is mapped or run.
 */
#ifndef PLUGIN_TOOLS_INSPECT_DEPS_H
#define PLUGIN_TOOLS_INSPECT_DEPS_H

/* Print the tree of path (text, or one JSON object): 0 when every dependency was found, 1 when
 * one is missing or refused (the tree is printed all the same: plugin_open would fail) or path
 * itself cannot be read (one error, as out_error reports it). */
int inspect_deps(const char *path, int json);

#endif /* PLUGIN_TOOLS_INSPECT_DEPS_H */
