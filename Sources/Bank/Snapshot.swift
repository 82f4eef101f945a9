import EventSourcing

/// Where a snapshot stands in a log: the position it was taken at, and the chain digest of that
/// position's record body. Because every record holds the digest of the one before it, a log
/// whose record at `position` has this digest has exactly the prefix the snapshot was folded
/// from (once the log itself has been checked at open).
public struct SnapshotAnchor: Equatable, Sendable {
    public var position: Int
    public var digest: ChainDigest

    public init(position: Int, digest: ChainDigest) {
        self.position = position
        self.digest = digest
    }
}

/// A snapshot that cannot be used: damaged, from another format or fold, or not for this log.
/// A snapshot is only a cache of the fold, so this is never fatal: the log is replayed instead.
public struct UnusableSnapshot: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// The live read models written to bytes and read back exactly: what a session saves beside a
/// store so that the next start folds only the events after it.
///
/// ```
/// snapshot = "TALLYSNP" · format u16 · fold version u16 · position u64 · digest (16)
///            · ids · balances · totals · activity · trail · CRC-32 of all before it u32
/// ```
public enum ReadModelSnapshot {
    static let magic: [UInt8] = Array("TALLYSNP".utf8)
    static let format: UInt16 = 1
    /// Bumped whenever a read model folds differently, so that an older snapshot is refused.
    static let foldVersion: UInt16 = 1

    /// The bytes of `models` as of `anchor` (the models' position must be the anchor's).
    public static func encode(_ models: LiveReadModels, anchor: SnapshotAnchor) -> [UInt8] {
        precondition(models.position == anchor.position, "a snapshot is anchored where its models stand")
        var writer = ByteWriter(capacity: 1 << 20)
        writer.write(bytes: magic)
        writer.write(format)
        writer.write(foldVersion)
        writer.write(UInt64(anchor.position))
        writer.write(anchor.digest.high)
        writer.write(anchor.digest.low)
        // Ids, in number order.
        let directory = models.directory
        let idCount = directory.count
        writer.write(UInt32(idCount))
        for number in 0..<idCount { writer.writeShortString(directory.id(AccountNumber(number)).rawValue) }
        // Balances.
        let balances = models.dashboard.balances
        writer.write(UInt64(balances.position))
        writer.write(UInt64(balances.count))
        writer.write(UInt32(balances.slots.count))
        for (index, slot) in balances.slots.enumerated() {
            writer.write(slot.balance)
            writer.write(slot.lastActivity)
            writer.write(UInt64(slot.lastPosition))
            writer.write(UInt8((slot.isOpened ? 1 : 0) | (slot.isClosed ? 2 : 0)))
            writer.writeString(balances.owners[index].rawValue)
        }
        // Totals.
        let totals = models.dashboard.totals
        for value in [
            totals.position, totals.openAccounts, totals.closedAccounts, totals.counts.opened, totals.counts.deposited,
            totals.counts.withdrawn, totals.counts.transferred, totals.counts.closed,
        ] {
            writer.write(Int64(value))
        }
        for money in [totals.moneyHeld, totals.deposited, totals.withdrawn, totals.transferred] {
            writer.write(money.minorUnits)
        }
        // Activity.
        let activity = models.dashboard.activity
        writer.write(UInt64(activity.position))
        let days = activity.sortedDays
        writer.write(UInt32(days.count))
        for day in days {
            writer.write(day.day)
            writer.write(Int64(day.events))
            writer.write(day.deposited.minorUnits)
            writer.write(day.withdrawn.minorUnits)
            writer.write(day.transferred.minorUnits)
        }
        // Trail.
        let trail = models.trail
        writer.write(UInt64(trail.position))
        writer.write(UInt32(trail.entries.count))
        for entries in trail.entries {
            writer.write(UInt32(entries.count))
            for entry in entries {
                writer.write(entry.position)
                writer.write(entry.balanceLow)
                writer.write(entry.balanceHigh)
            }
        }
        let crc = Checksum.crc32(writer.bytes)
        writer.write(crc)
        return writer.bytes
    }

    /// The models and anchor stored in `bytes`.
    ///
    /// - Throws: ``UnusableSnapshot`` when the bytes are damaged, truncated, of another format
    ///   or fold version, or do not add up. Nothing in them is trusted before the checksum is.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(UnusableSnapshot) -> (
        LiveReadModels, SnapshotAnchor
    ) {
        guard bytes.count >= magic.count + 4 + 8 + 16 + 4, bytes.prefix(magic.count).elementsEqual(magic) else {
            throw UnusableSnapshot(description: "not a Tally snapshot")
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 4)])
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self))
        guard Checksum.crc32(body) == stored else {
            throw UnusableSnapshot(description: "snapshot checksum does not match")
        }
        var reader = ByteReader(body)
        reader.offset = magic.count
        do {
            guard try reader.read(UInt16.self) == format, try reader.read(UInt16.self) == foldVersion else {
                throw UnusableSnapshot(description: "snapshot is from another version of tally")
            }
            let anchor = SnapshotAnchor(
                position: try count(&reader, UInt64.self),
                digest: ChainDigest(high: try reader.read(UInt64.self), low: try reader.read(UInt64.self)))
            var models = LiveReadModels()
            let directory = models.directory
            let idCount = try count(&reader, UInt32.self)
            for number in 0..<idCount {
                let id = AccountID(stored: try reader.readShortString())
                guard directory.number(of: id) == AccountNumber(number) else {
                    throw UnusableSnapshot(description: "snapshot repeats an account id")
                }
            }
            // Balances.
            var balances = AccountBalances(directory: directory)
            balances.position = try count(&reader, UInt64.self)
            balances.count = try count(&reader, UInt64.self)
            let slotCount = try count(&reader, UInt32.self)
            guard slotCount <= idCount else { throw UnusableSnapshot(description: "snapshot balances do not add up") }
            for _ in 0..<slotCount {
                var slot = AccountBalances.Slot()
                slot.balance = try reader.read(Int64.self)
                slot.lastActivity = try reader.read(Int64.self)
                slot.lastPosition = try count(&reader, UInt64.self)
                let flags = try reader.read(UInt8.self)
                slot.isOpened = flags & 1 != 0
                slot.isClosed = flags & 2 != 0
                balances.slots.append(slot)
                balances.owners.append(OwnerName(stored: try reader.readString()))
            }
            guard balances.count == balances.slots.count(where: \.isOpened) else {
                throw UnusableSnapshot(description: "snapshot balances do not add up")
            }
            // Totals.
            var totals = LedgerTotals()
            totals.position = try count(&reader, Int64.self)
            totals.openAccounts = Int(try reader.read(Int64.self))
            totals.closedAccounts = Int(try reader.read(Int64.self))
            totals.counts.opened = try count(&reader, Int64.self)
            totals.counts.deposited = try count(&reader, Int64.self)
            totals.counts.withdrawn = try count(&reader, Int64.self)
            totals.counts.transferred = try count(&reader, Int64.self)
            totals.counts.closed = try count(&reader, Int64.self)
            totals.moneyHeld = Money(minorUnits: try reader.read(Int64.self))
            totals.deposited = Money(minorUnits: try reader.read(Int64.self))
            totals.withdrawn = Money(minorUnits: try reader.read(Int64.self))
            totals.transferred = Money(minorUnits: try reader.read(Int64.self))
            // Activity.
            var activity = ActivityOverTime()
            activity.position = try count(&reader, UInt64.self)
            let dayCount = try count(&reader, UInt32.self)
            var previous = Int64.min
            for _ in 0..<dayCount {
                var day = DayActivity(day: try reader.read(Int64.self))
                guard activity.chunks.isEmpty || day.day > previous else {
                    throw UnusableSnapshot(description: "snapshot days are out of order")
                }
                previous = day.day
                day.events = Int(try reader.read(Int64.self))
                day.deposited = Money(minorUnits: try reader.read(Int64.self))
                day.withdrawn = Money(minorUnits: try reader.read(Int64.self))
                day.transferred = Money(minorUnits: try reader.read(Int64.self))
                if activity.chunks.last.map({ $0.count >= ActivityOverTime.chunkSize }) ?? true {
                    activity.chunks.append([])
                }
                activity.chunks[activity.chunks.count - 1].append(day)
            }
            // Trail.
            var trail = BalanceTrail(directory: directory)
            trail.position = try count(&reader, UInt64.self)
            let trailAccounts = try count(&reader, UInt32.self)
            guard trailAccounts <= idCount else {
                throw UnusableSnapshot(description: "snapshot trail does not add up")
            }
            for _ in 0..<trailAccounts {
                let entryCount = try count(&reader, UInt32.self)
                guard entryCount * 12 <= reader.remaining else {
                    throw UnusableSnapshot(description: "snapshot is truncated")
                }
                var entries: [BalanceTrail.Entry] = []
                entries.reserveCapacity(entryCount)
                for _ in 0..<entryCount {
                    var entry = BalanceTrail.Entry(position: try reader.read(UInt32.self), balance: 0)
                    entry.balanceLow = try reader.read(UInt32.self)
                    entry.balanceHigh = try reader.read(Int32.self)
                    entries.append(entry)
                }
                trail.entries.append(entries)
            }
            guard reader.remaining == 0 else { throw UnusableSnapshot(description: "snapshot has extra bytes") }
            guard
                [balances.position, totals.position, activity.position, trail.position].allSatisfy({
                    $0 == anchor.position
                })
            else {
                throw UnusableSnapshot(description: "snapshot models stand at different positions")
            }
            models.dashboard.balances = balances
            models.dashboard.totals = totals
            models.dashboard.activity = activity
            models.trail = trail
            return (models, anchor)
        } catch let error as UnusableSnapshot {
            throw error
        } catch {
            throw UnusableSnapshot(description: "snapshot is truncated")
        }
    }

    /// Reads a count or position: a non-negative integer that fits in an `Int`.
    private static func count<T: FixedWidthInteger>(_ reader: inout ByteReader, _: T.Type) throws -> Int {
        let value = try reader.read(T.self)
        guard value >= 0, let result = Int(exactly: value), result <= Int(UInt32.max) * 16 else {
            throw UnusableSnapshot(description: "snapshot holds an impossible count")
        }
        return result
    }
}
