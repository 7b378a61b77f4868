import Foundation
#if canImport(Glibc)
import Glibc
#endif

// `course watch`: wait for the learner to save a file (inotify, Linux's file
// events), let a burst of saves settle, then run again. Editors save in
// several steps (write a temporary file, rename it over the old one), so the
// watcher waits until no event has come for `settle` seconds.

/// What woke the watcher.
public enum WatchEvent: Sendable, Equatable {
    /// A `.swift` file under the folder changed, and the changes settled.
    case changed
    /// A line typed on the keyboard.
    case key(String)
    /// Standard input reached its end (not a terminal): stop reading it.
    case keyboardClosed
}

/// Watches a folder tree for changes to `.swift` files.
public final class FileWatcher {
    private let descriptor: Int32
    private let settle: Double
    private var pendingKeys: [String] = []
    private var keyboardBuffer = Data()

    /// Watches `folder` and every folder below it (as they are now).
    public init(folder: URL, settle: Double = 0.3) throws {
        descriptor = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard descriptor >= 0 else { throw GraderError.message("cannot watch files: \(String(cString: strerror(errno)))") }
        self.settle = settle
        var folders = [folder.path]
        let subpaths = (try? FileManager.default.subpathsOfDirectory(atPath: folder.path)) ?? []
        for sub in subpaths {
            var isDirectory: ObjCBool = false
            let path = folder.appendingPathComponent(sub).path
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                folders.append(path)
            }
        }
        let mask = UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_CREATE) | UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM)
        for path in folders where inotify_add_watch(descriptor, path, mask) < 0 {
            close(descriptor)
            throw GraderError.message("cannot watch \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(descriptor) }

    /// Blocks until a change has settled or a line is typed. Changes that
    /// happened while the caller was busy (a run) count: they are waiting
    /// in the descriptor.
    public func wait(readKeyboard: Bool) -> WatchEvent {
        var changedAt: Double? = nil
        while true {
            if !pendingKeys.isEmpty { return .key(pendingKeys.removeFirst()) }
            var fds = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
            if readKeyboard { fds.append(pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)) }
            let timeout: Int32 = changedAt == nil ? 1000 : 50
            _ = poll(&fds, nfds_t(fds.count), timeout)
            if fds[0].revents & Int16(POLLIN) != 0, swiftFileChanged() { changedAt = watchClock() }
            if readKeyboard, fds[1].revents & Int16(POLLIN | POLLHUP) != 0 {
                var byte = [UInt8](repeating: 0, count: 256)
                let count = read(STDIN_FILENO, &byte, byte.count)
                if count <= 0 { return .keyboardClosed }
                keyboardBuffer.append(contentsOf: byte[0..<count])
                while let newline = keyboardBuffer.firstIndex(of: UInt8(ascii: "\n")) {
                    pendingKeys.append(String(decoding: keyboardBuffer[keyboardBuffer.startIndex..<newline], as: UTF8.self))
                    keyboardBuffer = Data(keyboardBuffer[keyboardBuffer.index(after: newline)...])
                }
            }
            if let at = changedAt, watchClock() - at >= settle { return .changed }
        }
    }

    /// Reads the pending events; whether any names a `.swift` file.
    private func swiftFileChanged() -> Bool {
        var any = false
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            guard count > 0 else { return any }
            // struct inotify_event { int wd; uint32 mask, cookie, len; char name[len]; }
            var offset = 0
            while offset + 16 <= count {
                let length = buffer[offset + 12..<offset + 16].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
                let nameBytes = buffer[(offset + 16)..<min(count, offset + 16 + length)].prefix { $0 != 0 }
                let name = String(decoding: nameBytes, as: UTF8.self)
                if name.hasSuffix(".swift") { any = true }
                offset += 16 + length
            }
        }
    }
}

private func watchClock() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
