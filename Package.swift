// swift-tools-version: 6.0
// Tally: an event-sourced bank ledger for the terminal.
// No outside packages: the toolchain and system C libraries only.
import PackageDescription

let package = Package(
    name: "tally",
    products: [
        .executable(name: "tally", targets: ["tally"]),
        .executable(name: "tally-bench", targets: ["tally-bench"]),
    ],
    targets: [
        // C bindings (tiny: a module map and one shim header each)
        // libdeflate's CRC-32 (PCLMULQDQ): the same checksum as zlib's, about 6× faster on records.
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // ncursesw without pkg-config: its .pc adds -D flags SwiftPM refuses; the shim defines them.
        .systemLibrary(name: "CNcurses", providers: [.apt(["libncurses-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // Core: event-sourcing machinery, knows nothing of banks
        .target(name: "EventSourcing", dependencies: ["CDeflate", "CCrypto"]),

        // Domain: the bank, plugged into the machinery
        .target(name: "Bank", dependencies: ["EventSourcing"]),
        .target(
            name: "TallyAssets",
            path: "Assets",
            exclude: ["README.md"],
            resources: [.copy("demo")]
        ),

        // Front end
        .target(name: "TallyCLI", dependencies: ["EventSourcing", "Bank", "TallyAssets"]),
        .target(name: "TallyTUI", dependencies: ["EventSourcing", "Bank", "TallyCLI", "CNcurses"]),
        .executableTarget(name: "tally", dependencies: ["TallyCLI", "TallyTUI"]),

        // Benchmark (swift run -c release tally-bench)
        .executableTarget(name: "tally-bench", dependencies: ["EventSourcing", "Bank", "TallyCLI", "TallyTUI", "CSQLite"]),

        // Tests
        .testTarget(name: "EventSourcingTests", dependencies: ["EventSourcing"]),
        .testTarget(name: "BankTests", dependencies: ["Bank", "EventSourcing"]),
        .testTarget(name: "TallyTUITests", dependencies: ["TallyTUI", "Bank", "EventSourcing"], exclude: ["Golden"]),
        .testTarget(name: "TallyEndToEndTests", dependencies: ["TallyCLI", "Bank", "EventSourcing"]),
    ],
    swiftLanguageModes: [.v6]
)

// Strict settings for every Swift target, in one place.
for target in package.targets where target.type != .system {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("ExistentialAny"),
            // Release builds specialise generics across modules (the event-sourcing machinery is
            // generic over the domain; unspecialised, it looked up type metadata per event).
            .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
        ]
}
