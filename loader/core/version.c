/*
 * version.c — plugin_version: the version of the library that is running.
 *
 * PLUGIN_VERSION (plugin.h) is compiled into the caller and tells which header it was built
 * against; this function is compiled into the library, so it tells which library the caller
 * actually runs with (a newer libplugin.so.0 may have been installed since the program was
 * built). Both come from the same three numbers in plugin.h.
 */
#include "core/internal.h"

PLUGIN_API const char *plugin_version(void)
{
    return PLUGIN_VERSION;
}
