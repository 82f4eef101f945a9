import Glibc

/// A point in time, in whole milliseconds since 1970-01-01T00:00:00Z (UTC).
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since the Unix epoch.
    public var millisecondsSinceEpoch: Int64

    /// Creates a timestamp from milliseconds since the Unix epoch.
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// The UTC calendar day this timestamp falls on, as days since the epoch.
    public var dayNumber: Int64 {
        let (quotient, remainder) = millisecondsSinceEpoch.quotientAndRemainder(dividingBy: 86_400_000)
        return remainder < 0 ? quotient - 1 : quotient
    }

    /// The timestamp as ISO 8601 in UTC with second precision: `2026-12-04T10:00:00Z`.
    public var iso8601: String {
        let day = dayNumber
        let secondsOfDay = (millisecondsSinceEpoch - day * 86_400_000) / 1000
        let (year, month, dayOfMonth) = Timestamp.civilDate(fromDayNumber: day)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(dayOfMonth, 2))T"
            + "\(pad(secondsOfDay / 3600, 2)):\(pad(secondsOfDay / 60 % 60, 2)):\(pad(secondsOfDay % 60, 2))Z"
    }

    public var description: String { iso8601 }

    /// Converts days since the epoch to a proleptic Gregorian (year, month, day).
    ///
    /// Howard Hinnant's `civil_from_days` algorithm.
    static func civilDate(fromDayNumber days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}

private func pad(_ value: Int64, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}

/// A source of the current time, injected so that tests can fix it.
public protocol Clock: Sendable {
    /// The current time.
    func now() -> Timestamp
}

/// The system's real-time clock.
public struct SystemClock: Clock {
    /// Creates the system clock.
    public init() {}

    public func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(millisecondsSinceEpoch: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }
}

/// A clock that returns a fixed time, advanced by hand (for tests and the demo generator).
public final class ManualClock: Clock, @unchecked Sendable {
    // Guarded by `lock`; only `now()` and `advance(by:)` touch it.
    private var current: Timestamp
    private let lock = Lock()

    /// Creates a clock that reads `start` until advanced.
    public init(start: Timestamp) { current = start }

    public func now() -> Timestamp { lock.withLock { current } }

    /// Moves the clock forward by `milliseconds`.
    public func advance(byMilliseconds milliseconds: Int64) {
        lock.withLock { current.millisecondsSinceEpoch += milliseconds }
    }
}

/// An event about to be appended: the store assigns its position, stream version and digest.
public struct NewEvent: Sendable, Equatable {
    /// The stream (aggregate) the event belongs to.
    public var stream: String
    /// The stable type name stored with the event (never a Swift type name).
    public var typeName: String
    /// The schema version of the payload.
    public var schemaVersion: UInt16
    /// The domain's binary encoding of the event's data.
    public var payload: [UInt8]

    /// Creates an event to append.
    public init(stream: String, typeName: String, schemaVersion: UInt16, payload: [UInt8]) {
        self.stream = stream
        self.typeName = typeName
        self.schemaVersion = schemaVersion
        self.payload = payload
    }
}

/// The metadata every committed event carries.
public struct EventMetadata: Sendable, Equatable {
    /// The global position in the log: gapless, starting at 1.
    public var position: Int
    /// The stream (aggregate) the event belongs to.
    public var stream: String
    /// The event's version within its stream: gapless, starting at 1.
    public var streamVersion: Int
    /// When the command that produced the event was accepted.
    public var timestamp: Timestamp
    /// The id of the command that produced the event.
    public var commandID: String
    /// The stable type name.
    public var typeName: String
    /// The payload's schema version.
    public var schemaVersion: UInt16

    /// Creates event metadata.
    public init(
        position: Int, stream: String, streamVersion: Int, timestamp: Timestamp, commandID: String,
        typeName: String, schemaVersion: UInt16
    ) {
        self.position = position
        self.stream = stream
        self.streamVersion = streamVersion
        self.timestamp = timestamp
        self.commandID = commandID
        self.typeName = typeName
        self.schemaVersion = schemaVersion
    }
}

/// A committed event with its payload still in the domain's binary encoding.
public struct StoredEvent: Sendable, Equatable {
    /// Where and when the event was committed.
    public var metadata: EventMetadata
    /// The domain's binary encoding of the event's data.
    public var payload: [UInt8]

    /// Creates a stored event.
    public init(metadata: EventMetadata, payload: [UInt8]) {
        self.metadata = metadata
        self.payload = payload
    }
}

/// A committed, decoded domain event with its metadata.
public struct Envelope<Event: Sendable>: Sendable {
    /// Where and when the event was committed.
    public var metadata: EventMetadata
    /// The domain event.
    public var event: Event

    /// Creates an envelope.
    public init(metadata: EventMetadata, event: Event) {
        self.metadata = metadata
        self.event = event
    }

    /// The event's global position.
    public var position: Int { metadata.position }
}

extension Envelope: Equatable where Event: Equatable {}
