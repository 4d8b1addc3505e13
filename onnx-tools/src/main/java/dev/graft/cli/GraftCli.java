package dev.graft.cli;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.Version;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code graft} command line. Exit codes: 0 success, 2 bad input (the message names the file
 * and the problem, and no output file is written), 1 internal failure.
 */
@Command(
    name = "graft",
    mixinStandardHelpOptions = true,
    versionProvider = GraftCli.VersionProvider.class,
    description = "Graft: patch what loaded models know (RWS adapters, 2-bit OFQ ViTs, WA heads).",
    subcommands = {
      InspectCommand.class,
      RwsCommand.class,
      EvalCommand.class,
      WaCommand.class,
      OfqCommand.class,
      GenCommand.class,
      SplitCommand.class
    })
public final class GraftCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    System.exit(
        execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs the command line with the given streams and returns the exit code (for tests). */
  public static int execute(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new GraftCli());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          if (ex instanceof GraftException g) {
            err.println("graft: " + g.getMessage());
            return g.code() == GraftException.Code.INTERNAL ? 1 : 2;
          }
          err.println("graft: internal error: " + ex);
          ex.printStackTrace(err);
          return 1;
        });
    return cli.execute(args);
  }

  /** Prints the Graft version. */
  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"graft " + Version.VERSION};
    }
  }
}
