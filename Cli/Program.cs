// Placeholder entry point so that Sim.Cli (an Exe referenced by Specs) compiles; the real command-line
// front end (run, sweep, compare, bench, plot) replaces this file.
Console.Error.WriteLine("sim: no commands implemented yet");
return 1;
