import EventSourcing
import Glibc
import Synchronization

/// A dense number for an account id within one ``AccountDirectory``.
public typealias AccountNumber = Int32

/// The account ids a set of read models has met, numbered densely in the order first met, so
/// that the read models keep plain arrays indexed by number instead of dictionaries keyed by
/// strings: a fold looks an id up by its stored bytes without making a `String`, and a copy of
/// a model (a time-travel checkpoint) is a copy of flat arrays.
///
/// Append-only: a number, once given, always names the same id. Models that share a directory
/// (the live dashboard, its checkpoints, the balance trail) share its numbers.
///
/// Threading: safe from any thread (a lock guards it).
public final class AccountDirectory: @unchecked Sendable {
    /// Guards `table` (a futex: an uncontended lookup costs one atomic exchange each way).
    private let lock = Mutex(())
    /// Held through a pointer so that a lookup pays no run-time exclusivity check on each of
    /// the table's arrays.
    private let table: UnsafeMutablePointer<Table>

    /// Creates an empty directory.
    public init() {
        table = .allocate(capacity: 1)
        table.initialize(to: Table())
    }

    deinit {
        table.deinitialize(count: 1)
        table.deallocate()
    }

    /// How many ids have numbers.
    public var count: Int { lock.withLock { _ in table.pointee.ids.count } }

    /// The id numbered `number`.
    public func id(_ number: AccountNumber) -> AccountID { lock.withLock { _ in table.pointee.ids[Int(number)] } }

    /// The number of `id`, given now if it has none.
    public func number(of id: AccountID) -> AccountNumber {
        var text = id.rawValue
        return text.withUTF8 { utf8 in lock.withLock { _ in table.pointee.intern(UnsafeRawBufferPointer(utf8)) } }
    }

    /// The number of the id whose stored UTF-8 bytes are `key`, given now if it has none: a
    /// fold's lookup, with no `String` made unless the id is new.
    @inline(__always)
    public func number(ofStored key: UnsafeRawBufferPointer) -> AccountNumber {
        lock.withLock { _ in table.pointee.intern(key) }
    }

    /// The number of `id` if it has one; never gives one.
    public func existingNumber(of id: AccountID) -> AccountNumber? {
        var text = id.rawValue
        return text.withUTF8 { utf8 in
            lock.withLock { _ -> AccountNumber? in
                let key = UnsafeRawBufferPointer(utf8)
                let (slot, found) = table.pointee.find(key, hash: Table.hash(key))
                return found ? table.pointee.slots[slot] - 1 : nil
            }
        }
    }

    /// The numbers below `limit`, in id order.
    public func numbersInIDOrder(below limit: Int) -> [AccountNumber] {
        lock.withLock { _ in
            limit >= table.pointee.ids.count ? table.pointee.sorted : table.pointee.sorted.filter { Int($0) < limit }
        }
    }

    /// The numbering itself: a hash table over the ids' bytes.
    private struct Table {
        var ids: [AccountID] = []
        /// The ids' UTF-8 bytes, back to back; id `n` is `bytes[starts[n]..<starts[n + 1]]`.
        var bytes: [UInt8] = []
        var starts: [Int] = [0]
        var hashes: [UInt64] = []
        /// Open addressing, linear probing: `number + 1`, or 0 for an empty slot.
        var slots = [AccountNumber](repeating: 0, count: 64)
        /// Every number, in id order.
        var sorted: [AccountNumber] = []

        @inline(__always)
        mutating func intern(_ key: UnsafeRawBufferPointer) -> AccountNumber {
            let hash = Table.hash(key)
            let (slot, found) = find(key, hash: hash)
            if found { return slots[slot] - 1 }
            return add(key, hash: hash, slot: slot)
        }

        private mutating func add(_ key: UnsafeRawBufferPointer, hash: UInt64, slot: Int) -> AccountNumber {
            let number = AccountNumber(ids.count)
            let id = AccountID(stored: String(decoding: key, as: UTF8.self))
            ids.append(id)
            bytes.append(contentsOf: key)
            starts.append(bytes.count)
            hashes.append(hash)
            slots[slot] = number + 1
            // Keep `sorted` in id order: binary search for the place (ids are few next to events).
            var low = 0
            var high = sorted.count
            while low < high {
                let middle = (low + high) / 2
                if ids[Int(sorted[middle])] < id { low = middle + 1 } else { high = middle }
            }
            sorted.insert(number, at: low)
            if ids.count * 2 > slots.count { grow() }
            return number
        }

        /// The slot holding `key`, or the empty slot where it would go.
        @inline(__always)
        func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> (slot: Int, found: Bool) {
            slots.withUnsafeBufferPointer { slots in
                let mask = slots.count - 1
                var slot = Int(truncatingIfNeeded: hash) & mask
                while true {
                    let entry = slots[slot]
                    if entry == 0 { return (slot, false) }
                    let number = Int(entry - 1)
                    if hashes[number] == hash, equals(number, key) { return (slot, true) }
                    slot = (slot + 1) & mask
                }
            }
        }

        @inline(__always)
        private func equals(_ number: Int, _ key: UnsafeRawBufferPointer) -> Bool {
            let start = starts[number]
            let length = starts[number + 1] - start
            guard length == key.count else { return false }
            guard length > 0 else { return true }
            return bytes.withUnsafeBytes { stored in memcmp(stored.baseAddress! + start, key.baseAddress!, length) == 0
            }
        }

        private mutating func grow() {
            slots = [AccountNumber](repeating: 0, count: slots.count * 2)
            let mask = slots.count - 1
            for number in hashes.indices {
                var slot = Int(truncatingIfNeeded: hashes[number]) & mask
                while slots[slot] != 0 { slot = (slot + 1) & mask }
                slots[slot] = AccountNumber(number + 1)
            }
        }

        /// Eight bytes at a time, each word mixed in by a multiply and a shift, then a final
        /// mix so that the low bits (the slot) depend on every byte.
        @inline(__always)
        static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
            let count = key.count
            var hash = 0x9E37_79B9_7F4A_7C15 ^ UInt64(count)
            var offset = 0
            while offset + 8 <= count {
                hash = (hash ^ key.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
                hash ^= hash >> 31
                offset += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < count {
                tail |= UInt64(key[offset]) << shift
                shift += 8
                offset += 1
            }
            hash = (hash ^ tail) &* 0x94D0_49BB_1331_11EB
            hash ^= hash >> 33
            hash = hash &* 0xFF51_AFD7_ED55_8CCD
            return hash ^ (hash >> 33)
        }
    }
}
