/// Turns a domain's events into records and back. The stored type name and schema version
/// are stable strings and numbers chosen by the domain, never Swift type names.
public protocol EventCodec<Event> {
    /// The domain's event type.
    associatedtype Event: Sendable

    /// The record form of `event`.
    static func encode(_ event: Event) -> NewEvent

    /// Decodes the event in `record`.
    ///
    /// - Throws: ``UndecodableEvent`` for an unknown type name or schema version, or a payload
    ///   that does not parse.
    static func decode(_ record: RecordView) throws(UndecodableEvent) -> Event
}

/// A record whose type, schema version or payload this program cannot read.
public struct UndecodableEvent: Error, Sendable, CustomStringConvertible {
    /// The position of the record.
    public var position: Int
    /// What is wrong with it.
    public var reason: String

    /// Creates the error.
    public init(position: Int, reason: String) {
        self.position = position
        self.reason = reason
    }

    public var description: String { "event at position \(position) cannot be read: \(reason)" }
}

/// A write model: decides from state rebuilt from its own events.
///
/// `decide` and `evolve` are pure: the same state and command always give the same events
/// or the same rejection.
public protocol Decider {
    /// The state decisions are made from.
    associatedtype State: Sendable
    /// What a caller asks for.
    associatedtype Command: Sendable
    /// What happened.
    associatedtype Event: Sendable
    /// Why a command was refused.
    associatedtype Rejection: Error

    /// The state before any event.
    static var initialState: State { get }

    /// The events that `command` produces in `state`, or the rejection.
    static func decide(_ command: Command, state: State) throws(Rejection) -> [Event]

    /// Applies one event to the state.
    static func evolve(_ state: inout State, with event: Event)

    /// The streams whose state `command`'s decision reads: their versions are the decision's
    /// optimistic-concurrency expectations.
    static func streams(readBy command: Command) -> [String]
}
