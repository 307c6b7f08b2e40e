/* A test fixture for Windows (built at test time with mingw-w64, never shipped): a program
 * that holds on until killed.
 *
 *   hold.exe                          does nothing until killed. Wine shuts its service manager
 *                                     down when the last ordinary program of a prefix exits, so
 *                                     tests/windows/service.sh keeps one running.
 *   hold.exe [-child CHILDLOCK] [-sleep MS] [-print TEXT] [-exit] LOCK
 *                                     opens LOCK with no sharing (until this process dies, no one
 *                                     else can open it: that is how a test sees it gone); with
 *                                     -child, first starts `hold.exe CHILDLOCK`, which inherits
 *                                     its standard output (a grandchild of the proxy holding the
 *                                     pipe); with -sleep, waits MS milliseconds; with -print,
 *                                     writes TEXT and a newline to standard output; with -exit,
 *                                     exits then instead of holding on. */
#include <windows.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static HANDLE lock(const char *path)
{
    HANDLE h = CreateFileA(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "hold: cannot lock %s: error %lu\n", path, GetLastError());
        ExitProcess(2);
    }
    return h;
}

int main(int argc, char **argv)
{
    const char *child = NULL, *print = NULL;
    int exit_after = 0, sleep_ms = 0, i;
    for (i = 1; i < argc - 1; i++) {
        if (!strcmp(argv[i], "-child") && i + 1 < argc - 1)
            child = argv[++i];
        else if (!strcmp(argv[i], "-sleep") && i + 1 < argc - 1)
            sleep_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-print") && i + 1 < argc - 1)
            print = argv[++i];
        else if (!strcmp(argv[i], "-exit"))
            exit_after = 1;
        else {
            fprintf(stderr, "hold: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (argc > 1)
        lock(argv[argc - 1]);
    if (child) {
        char self[MAX_PATH], line[2 * MAX_PATH + 16];
        STARTUPINFOA si = {sizeof si};
        PROCESS_INFORMATION pi;
        GetModuleFileNameA(NULL, self, sizeof self);
        snprintf(line, sizeof line, "\"%s\" \"%s\"", self, child);
        /* No STARTF_USESTDHANDLES: the child gets this process's standard handles. */
        if (!CreateProcessA(self, line, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
            fprintf(stderr, "hold: cannot start the child: error %lu\n", GetLastError());
            return 2;
        }
        /* The child holds its lock before this process goes on. */
        for (i = 0; i < 500; i++) {
            HANDLE h = CreateFileA(child, GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
            if (h == INVALID_HANDLE_VALUE && GetLastError() == ERROR_SHARING_VIOLATION)
                break;
            if (h != INVALID_HANDLE_VALUE)
                CloseHandle(h);
            Sleep(10);
        }
    }
    if (sleep_ms > 0)
        Sleep(sleep_ms);
    if (print) {
        /* LF alone, as Prometheus requires: no text-mode CRLF. */
        _setmode(_fileno(stdout), _O_BINARY);
        printf("%s\n", print);
        fflush(stdout);
    }
    if (exit_after)
        return 0;
    for (;;)
        Sleep(INFINITE);
}
