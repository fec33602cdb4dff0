using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TrainingService.Persistence.MigrationsPostgres
{
    /// <inheritdoc />
    public partial class RateWindows : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "rate_windows",
                columns: table => new
                {
                    Owner = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Policy = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    WindowStart = table.Column<long>(type: "bigint", nullable: false),
                    Claimed = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_rate_windows", x => new { x.Owner, x.Policy, x.WindowStart });
                });

            migrationBuilder.CreateIndex(
                name: "IX_rate_windows_WindowStart",
                table: "rate_windows",
                column: "WindowStart");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "rate_windows");
        }
    }
}
