// The files in demo/ are copied into this target's resource bundle; TallyCLI locates them
// beside the executable (see DemoAssets.swift) without Bundle.module, whose lookup traps
// when the bundle is missing.
