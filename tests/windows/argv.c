/* A test fixture for Windows (built at test time with mingw-w64, never shipped): prints each
 * argument as the C runtime parsed it from the command line, as a sample
 *   arg{n="1",v="..."} 1
 * so a test sees whether each argument an exec module gives arrives whole and unchanged
 * (Windows passes one command line; the child splits it by the C runtime's quoting rules).
 * Then, for each variable named in EXPEXP_ARGV_ENV (comma-separated), env{name="NAME",v="..."} 1
 * (v="<unset>" if it is not set). Lines end in LF alone, as Prometheus requires. */
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void value(const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            putchar('\\');
        putchar(*v);
    }
}

int main(int argc, char **argv)
{
    _setmode(_fileno(stdout), _O_BINARY);
    for (int i = 1; i < argc; i++) {
        printf("arg{n=\"%d\",v=\"", i);
        value(argv[i]);
        printf("\"} 1\n");
    }
    const char *names = getenv("EXPEXP_ARGV_ENV");
    if (names) {
        char list[4096];
        snprintf(list, sizeof list, "%s", names);
        for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
            const char *v = getenv(name);
            printf("env{name=\"%s\",v=\"", name);
            value(v ? v : "<unset>");
            printf("\"} 1\n");
        }
    }
    return 0;
}
