//! CPU time, memory, open files and threads of a process from `/proc` (Linux).

use std::path::PathBuf;

fn proc_dir(pid: Option<u32>) -> PathBuf {
    match pid {
        Some(p) => PathBuf::from(format!("/proc/{p}")),
        None => PathBuf::from("/proc/self"),
    }
}

/// Clock ticks per second used by `/proc/<pid>/stat`.
pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions; it only reads a configuration value.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// User + system CPU seconds of `pid` (`None` = this process), from `/proc/<pid>/stat`.
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(proc_dir(pid).join("stat")).ok()?;
    parse_stat_ticks(&stat).map(|t| t as f64 / clock_ticks() as f64)
}

/// utime + stime (fields 14 and 15) of a `/proc/<pid>/stat` line; the command name in
/// parentheses may itself contain spaces and parentheses.
pub fn parse_stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime is field 14 → index 11.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Resident memory now and its peak (`VmRSS`, `VmHWM`) in KiB.
pub fn memory_kib(pid: Option<u32>) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(proc_dir(pid).join("status")).ok()?;
    parse_status_memory(&status)
}

/// `VmRSS` and `VmHWM` of a `/proc/<pid>/status` text.
pub fn parse_status_memory(status: &str) -> Option<(u64, u64)> {
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Open file descriptors of `pid` (`None` = this process): the entries of `/proc/<pid>/fd`.
pub fn open_fds(pid: Option<u32>) -> Option<u64> {
    let dir = std::fs::read_dir(proc_dir(pid).join("fd")).ok()?;
    Some(dir.filter(|e| e.is_ok()).count() as u64)
}

/// Threads of `pid` (`None` = this process): `Threads` in `/proc/<pid>/status`.
pub fn thread_count(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(proc_dir(pid).join("status")).ok()?;
    parse_status_threads(&status)
}

/// `Threads` of a `/proc/<pid>/status` text.
pub fn parse_status_threads(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("Threads:"))?;
    line["Threads:".len()..].trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_and_status() {
        let stat = "1234 (my (odd) prog) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8";
        assert_eq!(parse_stat_ticks(stat), Some(300));
        assert_eq!(parse_stat_ticks("garbage"), None);
        let status = "Name:\tx\nVmHWM:\t  20480 kB\nVmRSS:\t  10240 kB\n";
        assert_eq!(parse_status_memory(status), Some((10240, 20480)));
        assert!(cpu_seconds(None).is_some());
        assert!(memory_kib(None).is_some_and(|(rss, hwm)| rss > 0 && hwm >= rss));
        assert_eq!(parse_status_threads("Name:\tx\nThreads:\t7\n"), Some(7));
        assert!(thread_count(None).is_some_and(|n| n >= 1));
        assert!(open_fds(None).is_some_and(|n| n >= 3));
    }
}
