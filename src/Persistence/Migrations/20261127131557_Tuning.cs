using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TrainingService.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class Tuning : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "FoldIndex",
                table: "runs",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "ParentRunId",
                table: "runs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Role",
                table: "runs",
                type: "TEXT",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "SweepId",
                table: "runs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "sweeps",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    StartedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    FinishedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    SpecJson = table.Column<string>(type: "TEXT", nullable: false),
                    Method = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    MaxConcurrentTrials = table.Column<int>(type: "INTEGER", nullable: false),
                    ObjectiveMetric = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    ObjectiveMode = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    PromoteTo = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    BestTrial = table.Column<int>(type: "INTEGER", nullable: true),
                    PromotedRunId = table.Column<Guid>(type: "TEXT", nullable: true),
                    CancelRequested = table.Column<bool>(type: "INTEGER", nullable: false),
                    Error = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_sweeps", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "sweep_trials",
                columns: table => new
                {
                    SweepId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Number = table.Column<int>(type: "INTEGER", nullable: false),
                    ParamsJson = table.Column<string>(type: "TEXT", nullable: false),
                    RunId = table.Column<Guid>(type: "TEXT", nullable: true),
                    LaunchedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LastRung = table.Column<int>(type: "INTEGER", nullable: true),
                    StoppedAtEpoch = table.Column<int>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_sweep_trials", x => new { x.SweepId, x.Number });
                    table.ForeignKey(
                        name: "FK_sweep_trials_runs_RunId",
                        column: x => x.RunId,
                        principalTable: "runs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_sweep_trials_sweeps_SweepId",
                        column: x => x.SweepId,
                        principalTable: "sweeps",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_runs_ParentRunId_Role_FoldIndex",
                table: "runs",
                columns: new[] { "ParentRunId", "Role", "FoldIndex" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_runs_Role_Status",
                table: "runs",
                columns: new[] { "Role", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_runs_SweepId",
                table: "runs",
                column: "SweepId");

            migrationBuilder.CreateIndex(
                name: "IX_sweep_trials_RunId",
                table: "sweep_trials",
                column: "RunId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_sweeps_CreatedAt",
                table: "sweeps",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_sweeps_Status",
                table: "sweeps",
                column: "Status");

            migrationBuilder.AddForeignKey(
                name: "FK_runs_runs_ParentRunId",
                table: "runs",
                column: "ParentRunId",
                principalTable: "runs",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_runs_sweeps_SweepId",
                table: "runs",
                column: "SweepId",
                principalTable: "sweeps",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_runs_runs_ParentRunId",
                table: "runs");

            migrationBuilder.DropForeignKey(
                name: "FK_runs_sweeps_SweepId",
                table: "runs");

            migrationBuilder.DropTable(
                name: "sweep_trials");

            migrationBuilder.DropTable(
                name: "sweeps");

            migrationBuilder.DropIndex(
                name: "IX_runs_ParentRunId_Role_FoldIndex",
                table: "runs");

            migrationBuilder.DropIndex(
                name: "IX_runs_Role_Status",
                table: "runs");

            migrationBuilder.DropIndex(
                name: "IX_runs_SweepId",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "FoldIndex",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "ParentRunId",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "Role",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "SweepId",
                table: "runs");
        }
    }
}
