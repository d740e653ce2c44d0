// cxx_host.cpp — a C++ program that loads fixtures/cxx/cxx_plugin.cpp with plugin_open and talks
// C++ to it. Run by tests/elf/test_cxx.c (posix_spawn through run_capture), which checks its output
// line by line:
//
//   ctor=1 name=cxx_global primes=28        the plugin's static constructor ran once, before use
//   greeting=hello, host!                   std::string returned by value
//   squares=1 4 9 16 25                     std::vector<int> returned by value
//   words=a:2 b:1 c:3                       std::map<std::string, int> returned by value
//   caught runtime_error: plugin says: boom thrown in the plugin, caught here; cleanups=1
//   relayed logic_error: from the host      thrown here, through a plugin frame, caught here;
//                                           cleanups=2 (the plugin's local was destroyed)
//   bt: cxx_bt_inner cxx_bt_middle cxx_backtrace main   backtrace() frames named by
//                                           plugin_addr_info (only frames it can name)
//   main: returning
//   plugin global destroyed: cxx_global     the plugin's destructor, through __cxa_atexit, at exit
//   host global destroyed                   the host's, registered before the plugin's: after it
//
// Exit status 0 when every step ran; any failure prints "error: ..." and exits 1.
#include "plugin.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct HostGlobal {
    ~HostGlobal()
    {
        std::printf("host global destroyed\n");
        std::fflush(stdout);
    }
} host_global;

plugin *p;

template <typename F> F sym(const char *name)
{
    plugin_error err;
    void *a = plugin_lookup(p, name, &err);
    if (!a) {
        std::printf("error: %s\n", err.message);
        std::exit(1);
    }
    return reinterpret_cast<F>(a);
}

int host_throws(int x)
{
    throw std::logic_error("from the host " + std::to_string(x));
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: cxx_host PLUGIN\n");
        return 2;
    }
    plugin_error err;
    p = plugin_open(argv[1], &err);
    if (!p) {
        std::printf("error: %s\n", err.message);
        return 1;
    }
    std::printf("ctor=%d name=%s primes=%d\n", sym<int (*)()>("cxx_constructed")(),
                sym<const char *(*)()>("cxx_global_name")(), sym<int (*)()>("cxx_global_prime_sum")());

    std::string g = sym<std::string (*)(const char *)>("cxx_greeting")("host");
    std::printf("greeting=%s\n", g.c_str());
    std::vector<int> sq = sym<std::vector<int> (*)(int)>("cxx_squares")(5);
    std::string line;
    for (int v : sq)
        line += (line.empty() ? "" : " ") + std::to_string(v);
    std::printf("squares=%s\n", line.c_str());
    auto m = sym<std::map<std::string, int> (*)(const char *)>("cxx_word_counts")("c a b c a c");
    line.clear();
    for (const auto &kv : m)
        line += (line.empty() ? "" : " ") + kv.first + ":" + std::to_string(kv.second);
    std::printf("words=%s\n", line.c_str());

    auto cleanups = sym<int (*)()>("cxx_cleanups");
    try {
        sym<void (*)(const char *)>("cxx_throw")("boom");
        std::printf("error: cxx_throw returned\n");
        return 1;
    } catch (const std::runtime_error &e) {
        std::printf("caught runtime_error: %s; cleanups=%d\n", e.what(), cleanups());
    }
    try {
        sym<int (*)(int (*)(int), int)>("cxx_relay")(host_throws, 7);
        std::printf("error: cxx_relay returned\n");
        return 1;
    } catch (const std::logic_error &e) {
        std::printf("relayed logic_error: %s; cleanups=%d\n", e.what(), cleanups());
    }

    void *frames[64];
    int n = sym<int (*)(void **, int)>("cxx_backtrace")(frames, 64);
    line.clear();
    for (int i = 0; i < n; i++) {
        struct plugin_addr_info info;
        // A return address points just after the call: look one byte back, inside the caller.
        // Under ASan, backtrace() is intercepted: skip the sanitizer runtime's own frames.
        if (plugin_addr_info(static_cast<char *>(frames[i]) - 1, &info) && info.symbol &&
            !std::strstr(info.path, "/libasan.") && !std::strstr(info.path, "/libubsan."))
            line += std::string(" ") + info.symbol;
    }
    std::printf("bt:%s\n", line.c_str());

    sym<void (*)(const char *)>("cxx_on_exit_say")("plugin global destroyed:");
    std::printf("main: returning\n");
    std::fflush(stdout);
    return 0;
}
