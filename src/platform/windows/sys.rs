//! The Windows API calls that no vetted crate wraps safely (docs/dependencies.md, "Unsafe
//! code"): Job Objects and resuming a suspended process, this process's times, memory and
//! handles, the Event Log and its source's registry key. The only file of the crate allowed
//! `unsafe`; each block says why it is sound. Everything here is a thin, owned, safe wrapper:
//! handles are closed on drop, strings are NUL-terminated UTF-16 built here, and structures
//! are sized from their Rust definitions (windows-sys, Microsoft's bindings).
#![allow(unsafe_code)]

use std::ffi::OsStr;
use std::io;
use std::os::windows::ffi::OsStrExt as _;
use std::os::windows::io::RawHandle;

use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_FILE_NOT_FOUND, FILETIME, HANDLE, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, PROCESSENTRY32W, Process32FirstW, Process32NextW, TH32CS_SNAPPROCESS,
    TH32CS_SNAPTHREAD, THREADENTRY32, Thread32First, Thread32Next,
};
use windows_sys::Win32::System::EventLog::{DeregisterEventSource, RegisterEventSourceW, ReportEventW};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation, SetInformationJobObject,
    TerminateJobObject,
};
use windows_sys::Win32::System::ProcessStatus::{K32GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS_EX};
use windows_sys::Win32::System::Registry::{
    HKEY, HKEY_LOCAL_MACHINE, KEY_WRITE, REG_DWORD, REG_EXPAND_SZ, REG_OPTION_NON_VOLATILE, RegCloseKey,
    RegCreateKeyExW, RegDeleteKeyW, RegSetValueExW,
};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetProcessHandleCount, GetProcessTimes, OpenThread, ResumeThread,
    THREAD_SUSPEND_RESUME,
};

/// `s` as a NUL-terminated UTF-16 string; a NUL inside `s` is an error.
fn wide(s: &OsStr) -> io::Result<Vec<u16>> {
    let mut w: Vec<u16> = s.encode_wide().collect();
    if w.contains(&0) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "a NUL character in a Windows string"));
    }
    w.push(0);
    Ok(w)
}

/// A handle this file owns, closed on drop.
#[derive(Debug)]
struct Owned(HANDLE);

// SAFETY: a kernel object handle is a process-wide value that any thread may use or close.
unsafe impl Send for Owned {}
// SAFETY: every call made through `&Owned` here (assign, terminate, report) is thread-safe
// in the Windows API.
unsafe impl Sync for Owned {}

impl Owned {
    /// Takes ownership of `h`, or the last error where `h` is null or invalid.
    fn new(h: HANDLE) -> io::Result<Owned> {
        if h.is_null() || h == INVALID_HANDLE_VALUE { Err(io::Error::last_os_error()) } else { Ok(Owned(h)) }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: the handle is valid (checked in `new`) and owned here alone, so it is closed
        // exactly once.
        unsafe { CloseHandle(self.0) };
    }
}

/// `ok` (a Windows BOOL) as a result with the last error.
fn check(ok: i32) -> io::Result<()> {
    if ok != 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// A Job Object whose processes are all killed when it is closed (or terminated).
#[derive(Debug)]
pub(super) struct Job(Owned);

impl Job {
    /// A new, unnamed job, not inherited by children, that kills its processes on close.
    pub(super) fn new() -> io::Result<Job> {
        // SAFETY: null attributes and name are allowed (an unnamed job with default security,
        // its handle not inheritable).
        let job = Owned::new(unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) })?;
        let mut limits = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
        limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        // SAFETY: `limits` is the structure that this information class names, with its true
        // size; the call only reads it.
        check(unsafe {
            SetInformationJobObject(
                job.0,
                JobObjectExtendedLimitInformation,
                (&raw const limits).cast(),
                size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
            )
        })?;
        Ok(Job(job))
    }

    /// Puts the process `process` (a handle the caller keeps open meanwhile) in the job; the
    /// processes it starts from now on are in the job too.
    pub(super) fn assign(&self, process: RawHandle) -> io::Result<()> {
        // SAFETY: both handles are valid for the call: the job is ours, the process handle is
        // borrowed from a live `Child`.
        check(unsafe { AssignProcessToJobObject(self.0.0, process as HANDLE) })
    }

    /// Kills every process in the job at once.
    pub(super) fn terminate(&self) -> io::Result<()> {
        // SAFETY: the job handle is valid; exit code 1 as for a killed process.
        check(unsafe { TerminateJobObject(self.0.0, 1) })
    }
}

/// Resumes every thread of process `pid`: a process created suspended has exactly one, its
/// main thread, which std's `Child` does not expose.
pub(super) fn resume_threads(pid: u32) -> io::Result<()> {
    // SAFETY: a snapshot of all threads; the flags are valid and the returned handle is
    // checked and owned.
    let snapshot = Owned::new(unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0) })?;
    let mut entry = THREADENTRY32 { dwSize: size_of::<THREADENTRY32>() as u32, ..Default::default() };
    let mut resumed = 0;
    // SAFETY: `entry` is a THREADENTRY32 with its `dwSize` set, as the call requires.
    let mut more = unsafe { Thread32First(snapshot.0, &raw mut entry) } != 0;
    while more {
        if entry.th32OwnerProcessID == pid {
            // SAFETY: a thread ID from the snapshot; the handle is checked and owned.
            let thread = Owned::new(unsafe { OpenThread(THREAD_SUSPEND_RESUME, 0, entry.th32ThreadID) })?;
            // SAFETY: a valid thread handle opened with THREAD_SUSPEND_RESUME.
            if unsafe { ResumeThread(thread.0) } == u32::MAX {
                return Err(io::Error::last_os_error());
            }
            resumed += 1;
        }
        // SAFETY: as for Thread32First.
        more = unsafe { Thread32Next(snapshot.0, &raw mut entry) } != 0;
    }
    if resumed == 0 {
        return Err(io::Error::other(format!("process {pid} has no thread to resume")));
    }
    Ok(())
}

/// The file name (`services.exe`) of the program that started this process, if it still runs.
pub(super) fn parent_name() -> Option<String> {
    // SAFETY: a snapshot of all processes; the flags are valid and the returned handle is
    // checked and owned.
    let snapshot = Owned::new(unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) }).ok()?;
    let mut entry = PROCESSENTRY32W { dwSize: size_of::<PROCESSENTRY32W>() as u32, ..Default::default() };
    let mut processes = Vec::new();
    // SAFETY: `entry` is a PROCESSENTRY32W with its `dwSize` set, as the call requires.
    let mut more = unsafe { Process32FirstW(snapshot.0, &raw mut entry) } != 0;
    while more {
        let name = &entry.szExeFile;
        let len = name.iter().position(|&c| c == 0).unwrap_or(name.len());
        processes.push((
            entry.th32ProcessID,
            entry.th32ParentProcessID,
            String::from_utf16_lossy(&name[..len]),
        ));
        // SAFETY: as for Process32FirstW.
        more = unsafe { Process32NextW(snapshot.0, &raw mut entry) } != 0;
    }
    let me = std::process::id();
    let parent = processes.iter().find(|(pid, _, _)| *pid == me)?.1;
    processes.into_iter().find(|(pid, _, _)| *pid == parent).map(|(_, _, name)| name)
}

/// This process's resource figures from its own APIs.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Usage {
    /// Creation time, 100 ns units since 1601-01-01.
    pub(super) created: Option<u64>,
    /// Kernel plus user time, 100 ns units.
    pub(super) cpu: Option<u64>,
    pub(super) working_set: Option<usize>,
    pub(super) private_bytes: Option<usize>,
    pub(super) handles: Option<u32>,
}

fn filetime(t: FILETIME) -> u64 {
    (u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime)
}

/// Reads this process's times, memory and open handles.
pub(super) fn usage() -> Usage {
    // SAFETY: a pseudo-handle for this process; it needs no closing.
    let me = unsafe { GetCurrentProcess() };
    let mut usage = Usage::default();
    let (mut created, mut exited, mut kernel, mut user) =
        (FILETIME::default(), FILETIME::default(), FILETIME::default(), FILETIME::default());
    // SAFETY: four FILETIME out-parameters that live through the call.
    if unsafe { GetProcessTimes(me, &raw mut created, &raw mut exited, &raw mut kernel, &raw mut user) } != 0
    {
        usage.created = Some(filetime(created));
        usage.cpu = Some(filetime(kernel) + filetime(user));
    }
    let mut memory = PROCESS_MEMORY_COUNTERS_EX {
        cb: size_of::<PROCESS_MEMORY_COUNTERS_EX>() as u32,
        ..Default::default()
    };
    // SAFETY: the _EX structure, with its true size in both `cb` and the size argument, which
    // is how the call is asked for the extended counters.
    if unsafe {
        K32GetProcessMemoryInfo(me, (&raw mut memory).cast(), size_of::<PROCESS_MEMORY_COUNTERS_EX>() as u32)
    } != 0
    {
        usage.working_set = Some(memory.WorkingSetSize);
        usage.private_bytes = Some(memory.PrivateUsage);
    }
    let mut handles = 0u32;
    // SAFETY: one u32 out-parameter.
    if unsafe { GetProcessHandleCount(me, &raw mut handles) } != 0 {
        usage.handles = Some(handles);
    }
    usage
}

/// The kind of an Event Log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EventType {
    Error,
    Warning,
    Information,
}

/// An open Event Log source, for writing entries.
#[derive(Debug)]
pub(super) struct EventSource(HANDLE);

// SAFETY: an event log handle may be used from any thread; ReportEvent is thread-safe.
unsafe impl Send for EventSource {}
// SAFETY: as above.
unsafe impl Sync for EventSource {}

impl EventSource {
    /// Opens source `name` on this computer (registered or not: Windows then writes the
    /// entries without their message file).
    pub(super) fn open(name: &str) -> io::Result<EventSource> {
        let name = wide(OsStr::new(name))?;
        // SAFETY: a NUL-terminated name that lives through the call; null server = this
        // computer.
        let h = unsafe { RegisterEventSourceW(std::ptr::null(), name.as_ptr()) };
        if h.is_null() { Err(io::Error::last_os_error()) } else { Ok(EventSource(h)) }
    }

    /// Writes one entry of `kind` with event ID `id` and the text `message` (a NUL in it ends
    /// the text early rather than failing).
    pub(super) fn report(&self, kind: EventType, id: u32, message: &str) -> io::Result<()> {
        let mut text: Vec<u16> = message.encode_utf16().take_while(|&c| c != 0).collect();
        text.push(0);
        let strings = [text.as_ptr()];
        let kind = match kind {
            EventType::Error => windows_sys::Win32::System::EventLog::EVENTLOG_ERROR_TYPE,
            EventType::Warning => windows_sys::Win32::System::EventLog::EVENTLOG_WARNING_TYPE,
            EventType::Information => windows_sys::Win32::System::EventLog::EVENTLOG_INFORMATION_TYPE,
        };
        // SAFETY: one NUL-terminated string in a one-element array, both alive through the
        // call; no user SID and no raw data.
        check(unsafe {
            ReportEventW(self.0, kind, 0, id, std::ptr::null_mut(), 1, 0, strings.as_ptr(), std::ptr::null())
        })
    }
}

impl Drop for EventSource {
    fn drop(&mut self) {
        // SAFETY: the handle came from RegisterEventSourceW and is closed once, here.
        unsafe { DeregisterEventSource(self.0) };
    }
}

/// A registry value to write.
#[derive(Debug)]
pub(super) enum RegValue<'a> {
    /// REG_EXPAND_SZ: a string in which `%VARIABLE%` is expanded by its reader.
    ExpandString(&'a str),
    /// REG_DWORD.
    Dword(u32),
}

/// An open key under HKEY_LOCAL_MACHINE, closed on drop.
struct Key(HKEY);

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: the key came from RegCreateKeyExW and is closed once, here.
        unsafe { RegCloseKey(self.0) };
    }
}

fn win32(code: u32) -> io::Result<()> {
    if code == 0 { Ok(()) } else { Err(io::Error::from_raw_os_error(code as i32)) }
}

/// Creates (or opens) `HKEY_LOCAL_MACHINE\{path}` and sets `values` in it.
pub(super) fn set_machine_values(path: &str, values: &[(&str, RegValue<'_>)]) -> io::Result<()> {
    let wpath = wide(OsStr::new(path))?;
    let mut key: HKEY = std::ptr::null_mut();
    // SAFETY: a NUL-terminated path, no class, no security attributes, and an out-parameter
    // for the key; the disposition is not wanted (null is allowed).
    win32(unsafe {
        RegCreateKeyExW(
            HKEY_LOCAL_MACHINE,
            wpath.as_ptr(),
            0,
            std::ptr::null(),
            REG_OPTION_NON_VOLATILE,
            KEY_WRITE,
            std::ptr::null(),
            &raw mut key,
            std::ptr::null_mut(),
        )
    })?;
    let key = Key(key);
    for (name, value) in values {
        let wname = wide(OsStr::new(name))?;
        let (kind, data): (u32, Vec<u8>) = match value {
            RegValue::ExpandString(s) => {
                (REG_EXPAND_SZ, wide(OsStr::new(s))?.iter().flat_map(|c| c.to_le_bytes()).collect())
            }
            RegValue::Dword(d) => (REG_DWORD, d.to_le_bytes().to_vec()),
        };
        // SAFETY: an open key, a NUL-terminated name, and `data` with its true length (for a
        // string, its UTF-16 bytes with the terminating NUL, as the call requires).
        win32(unsafe { RegSetValueExW(key.0, wname.as_ptr(), 0, kind, data.as_ptr(), data.len() as u32) })?;
    }
    Ok(())
}

/// Deletes the key `HKEY_LOCAL_MACHINE\{path}` (which must have no subkeys); gone already
/// is fine.
pub(super) fn delete_machine_key(path: &str) -> io::Result<()> {
    let wpath = wide(OsStr::new(path))?;
    // SAFETY: a NUL-terminated path.
    match unsafe { RegDeleteKeyW(HKEY_LOCAL_MACHINE, wpath.as_ptr()) } {
        ERROR_FILE_NOT_FOUND => Ok(()),
        code => win32(code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_reads_this_process() {
        let u = usage();
        assert!(u.created.is_some_and(|t| t > 0), "{u:?}");
        assert!(u.working_set.is_some_and(|w| w > 0), "{u:?}");
        // Wine answers 0 for these two; Windows its real figures (docs/windows.md).
        assert!(u.handles.is_some() && u.private_bytes.is_some(), "{u:?}");
    }

    #[test]
    fn the_parent_of_a_test_is_not_the_service_manager() {
        // Under wine the parent is cargo, a Linux program wine does not list: `None`.
        let parent = parent_name();
        assert!(!parent.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("services.exe")), "{parent:?}");
    }

    #[test]
    fn wide_strings_end_in_one_nul_and_refuse_inner_ones() {
        assert_eq!(wide(OsStr::new("ab")).expect("ok"), [97, 98, 0]);
        assert!(wide(OsStr::new("a\0b")).is_err());
    }
}
