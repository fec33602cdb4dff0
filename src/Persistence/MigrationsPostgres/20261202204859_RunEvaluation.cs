using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TrainingService.Persistence.MigrationsPostgres
{
    /// <inheritdoc />
    public partial class RunEvaluation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "EvaluationJson",
                table: "runs",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "EvaluationJson",
                table: "runs");
        }
    }
}
