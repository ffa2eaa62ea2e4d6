using NanoCam.Cli;

return CliRunner.Invoke(NanoCamCommand.Create(), args);
